#!/usr/bin/env bash
# Writes vectors.json beside this script: protocol.md §2 frame encryption computed by the `openssl`
# command line, with none of this project's code (docs/security.md, Test vectors). Each vector
# carries the exact commands that produced it. Run from anywhere: bash make.sh
#
#   HKDF-SHA256     openssl kdf ... HKDF (salt absent = HashLen zero bytes = the empty salt of §2)
#   AES-256-GCM     ciphertext: openssl enc -aes-256-ctr with the counter block nonce ‖ 00000002
#                   (NIST SP 800-38D: GCM encrypts with CTR from inc32(J0), J0 = nonce ‖ 00000001);
#                   tag of an empty plaintext: openssl mac ... GMAC over the AAD (GMAC is GCM with
#                   nothing to encrypt). The openssl command line has no AEAD encryption (`enc`
#                   refuses GCM), so the tag of a non-empty plaintext comes from a second tool,
#                   Python's `cryptography` (AESGCM), whose ciphertext is checked against openssl's.
#   RSA-OAEP        openssl genpkey (the test-only key below) and openssl pkeyutl -encrypt with
#                   OAEP, SHA-256 for the hash and for MGF1.
#
# The plaintexts are protobuf bodies written out by hand from packages/protocol/proto/im.proto
# (field tag, then value), not by the project's codec. The session: alice logs in with RSA (2),
# the server answers sealed (AES), one PING each way, and a SendAck.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }
unhex() { printf '%s' "$1" | xxd -r -p >"$2"; }
lower() { tr -d ':\n ' | tr 'A-F' 'a-f'; }

SECRET=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

# ---------------------------------------------------------------- HKDF
hkdf() {
  openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt "hexkey:$SECRET" -kdfopt "info:$1" HKDF | lower
}
C2S=$(hkdf 'im c2s')
S2C=$(hkdf 'im s2c')
HKDF_CMD_C2S="openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:$SECRET -kdfopt 'info:im c2s' HKDF"
HKDF_CMD_S2C="openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:$SECRET -kdfopt 'info:im s2c' HKDF"

# ---------------------------------------------------------------- RSA key (test only)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out pub.pem

# ---------------------------------------------------------------- frames
# header = len (u32) ‖ version 01 ‖ seq (u32) ‖ command ‖ flag ‖ status; AAD = header bytes 4..11.
# Flags (§2: bits 3-2 encrypt, 1-0 flow): 08 request RSA, 04 request AES, 05 response AES.
aad() { printf '01%08x%s%s%s' "$1" "$2" "$3" "$4"; }
header() { printf '%08x%s' "$1" "$2"; }

# AES-256-GCM of plaintext $3 (hex) under key $1, nonce $2, AAD $4: sets SEALED to ciphertext ‖ tag
# and CMDS to the commands used.
gcm() {
  local key=$1 nonce=$2 pt=$3 aadhex=$4 ct tag check
  unhex "$aadhex" aad.bin
  if [ -z "$pt" ]; then
    tag=$(openssl mac -cipher AES-256-GCM -macopt "hexkey:$key" -macopt "hexiv:$nonce" -in aad.bin GMAC | lower)
    CMDS="printf %s $aadhex | xxd -r -p > aad.bin; openssl mac -cipher AES-256-GCM -macopt hexkey:$key -macopt hexiv:$nonce -in aad.bin GMAC"
    SEALED=$tag
    return
  fi
  unhex "$pt" pt.bin
  openssl enc -aes-256-ctr -K "$key" -iv "${nonce}00000002" -in pt.bin -out ct.bin
  ct=$(hex ct.bin)
  check=$(python3 -c "
import sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
out = AESGCM(bytes.fromhex('$key')).encrypt(bytes.fromhex('$nonce'), bytes.fromhex('$pt'), bytes.fromhex('$aadhex'))
print(out.hex())")
  [ "${check:0:${#ct}}" = "$ct" ] || { echo "openssl CTR and AESGCM disagree" >&2; exit 1; }
  tag=${check:${#ct}}
  CMDS="printf %s $pt | xxd -r -p > pt.bin; openssl enc -aes-256-ctr -K $key -iv ${nonce}00000002 -in pt.bin | xxd -p; python3 -c 'from cryptography.hazmat.primitives.ciphers.aead import AESGCM; print(AESGCM(bytes.fromhex(\\\"$key\\\")).encrypt(bytes.fromhex(\\\"$nonce\\\"), bytes.fromhex(\\\"$pt\\\"), bytes.fromhex(\\\"$aadhex\\\"))[-16:].hex())'"
  SEALED=$ct$tag
}

VECTORS=()
# vector NAME DIRECTION PLAINTEXT FRAME COMMANDS
vector() {
  VECTORS+=("    {\"name\": \"$1\", \"direction\": \"$2\", \"plaintext\": \"$3\", \"frame\": \"$4\", \"commands\": [\"$5\"]}")
}

# 1. LOGIN, RSA (2), seq 1: keyLen ‖ OAEP(secret) ‖ nonce ‖ AES-256-GCM(key = secret) ‖ tag.
#    LoginRequest{userId "alice" (1), token "t" (2), deviceId "d1" (3), platform 4 (4)}
LOGIN_REQ=0a05616c6963651201741a0264312004
N1=b0b1b2b3b4b5b6b7b8b9babb
unhex "$SECRET" secret.bin
openssl pkeyutl -encrypt -pubin -inkey pub.pem -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
  -pkeyopt rsa_mgf1_md:sha256 -in secret.bin -out wrapped.bin
openssl pkeyutl -decrypt -inkey key.pem -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
  -pkeyopt rsa_mgf1_md:sha256 -in wrapped.bin -out unwrapped.bin
[ "$(hex unwrapped.bin)" = "$SECRET" ] || { echo 'OAEP round trip failed' >&2; exit 1; }
WRAPPED=$(hex wrapped.bin)
OAEP_CMD="printf %s $SECRET | xxd -r -p > secret.bin; openssl pkeyutl -encrypt -pubin -inkey pub.pem -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in secret.bin | xxd -p"
AAD1=$(aad 1 01 08 00)
gcm "$SECRET" "$N1" "$LOGIN_REQ" "$AAD1"
BODY1=$(printf '%04x' $((${#WRAPPED} / 2)))$WRAPPED$N1$SEALED
vector login-request-rsa c2s "$LOGIN_REQ" "$(header $((${#BODY1} / 2)) "$AAD1")$BODY1" "$OAEP_CMD; $CMDS"

# An AES (1) frame: aes_frame NAME DIRECTION KEY NONCE PLAINTEXT SEQ COMMAND FLAG (status 00).
aes_frame() {
  local aadhex body
  aadhex=$(aad "$6" "$7" "$8" 00)
  gcm "$3" "$4" "$5" "$aadhex"
  body=$4$SEALED
  vector "$1" "$2" "$5" "$(header $((${#body} / 2)) "$aadhex")$body" "$CMDS"
}

# 2. LoginResponse, AES (1) with s2c, seq 1.
#    LoginResponse{serverTime 1700000000000 (1), heartbeatSeconds 30 (2), head 7 (3), sessionId "s1" (4)}
aes_frame login-response-aes s2c "$S2C" c0c1c2c3c4c5c6c7c8c9cacb 0880d095ffbc31101e180722027331 1 01 05

# 3. PING request, AES (1) with c2s, seq 2, empty body: nonce ‖ tag.
aes_frame ping-request-aes c2s "$C2S" a0a1a2a3a4a5a6a7a8a9aaab '' 2 03 04

# 4. PING response, AES (1) with s2c, seq 2, empty body.
aes_frame ping-response-aes s2c "$S2C" d0d1d2d3d4d5d6d7d8d9dadb '' 2 03 05

# 5. SendAck (MS response), AES (1) with s2c, seq 3.
#    SendAck{messageUid 123456789 (1), serverTime 1700000000000 (2), seq 5 (3)}
aes_frame sendack-response-aes s2c "$S2C" a0a1a2a3a4a5a6a7a8a9aaab 08959aef3a1080d095ffbc311805 3 04 05

pem() { awk '{printf "%s\\n", $0}' "$1"; }
{
  printf '{\n'
  printf '  "description": "protocol.md §2 frame encryption computed by the openssl command line (make.sh beside this file has every command; each vector lists its own). Test-only RSA key.",\n'
  printf '  "generator": "%s",\n' "$(openssl version)"
  printf '  "secret": "%s",\n' "$SECRET"
  printf '  "hkdf": {"c2s": "%s", "s2c": "%s", "commands": ["%s", "%s"]},\n' "$C2S" "$S2C" "$HKDF_CMD_C2S" "$HKDF_CMD_S2C"
  printf '  "rsa": {"privateKeyPem": "%s", "wrappedSecret": "%s", "commands": ["openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem", "openssl pkey -in key.pem -pubout -out pub.pem", "%s"]},\n' \
    "$(pem key.pem)" "$WRAPPED" "$OAEP_CMD"
  printf '  "frames": [\n'
  for i in "${!VECTORS[@]}"; do
    printf '%s' "${VECTORS[$i]}"
    [ "$i" -lt $((${#VECTORS[@]} - 1)) ] && printf ','
    printf '\n'
  done
  printf '  ]\n}\n'
} >"$HERE/vectors.json"
echo "wrote $HERE/vectors.json"
