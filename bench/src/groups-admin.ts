/**
 * Creating the groups of `--mix group:K` through the admin HTTP API (protocol.md §7: "create/delete
 * groups and set members"; the exact paths are the implementation's choice). The request shape
 * lives only here so it can follow the admin API as documented in docs/: today it is
 *   PUT <admin>/groups/<groupId>   {"members": ["u1", "u2", ...]}   Authorization: Bearer <secret>
 */

export interface BenchGroup {
  groupId: string;
  members: string[];
}

export async function createGroups(
  adminUrl: string,
  secret: string,
  groups: readonly BenchGroup[],
): Promise<void> {
  const base = adminUrl.replace(/\/+$/, '');
  for (const g of groups) {
    const res = await fetch(`${base}/groups/${encodeURIComponent(g.groupId)}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        ...(secret ? { authorization: `Bearer ${secret}` } : {}),
      },
      body: JSON.stringify({ members: g.members }),
    });
    if (!res.ok) {
      throw new Error(
        `admin API refused group ${g.groupId}: HTTP ${res.status} ${await res.text()} ` +
          `(bench/src/groups-admin.ts holds the request shape; adjust it to the admin API's documented paths)`,
      );
    }
  }
}

/** Users 0..n-1 in consecutive groups of `size`; a remainder of one user joins the last group. */
export function partitionGroups(userIds: readonly string[], size: number, tag: string): BenchGroup[] {
  const groups: BenchGroup[] = [];
  for (let i = 0; i < userIds.length; i += size) {
    const members = userIds.slice(i, i + size);
    const last = groups.at(-1);
    if (members.length < 2 && last) last.members.push(...members);
    else groups.push({ groupId: `g${tag}-${groups.length}`, members });
  }
  return groups;
}
