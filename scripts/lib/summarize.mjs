// Prints the closing line of scripts/test.sh, `N passed, M failed[, K skipped]`, from vitest's
// JSON report (--reporter=json --outputFile=...).
// Usage: node summarize.mjs REPORT [VITEST_EXIT] [--also NAME=EXIT]...
// Each --also is a check run outside vitest (the chaos run): one test, passed when EXIT is 0.
// A test file that failed before any test ran (import error, failing beforeAll with no test
// result) counts as one failed test, and so does a run that failed outside every test (vitest
// exited non-zero with no failed test: an unhandled error or rejection, a worker that crashed, a
// failing global setup), so a broken run can never read as "0 failed".
// Exit code 1 when anything failed or the report is missing.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const also = [];
for (let i = args.indexOf('--also'); i >= 0; i = args.indexOf('--also')) {
  const [name, exit] = (args[i + 1] ?? '').split('=');
  also.push({ name, exit });
  args.splice(i, 2);
}
const [reportPath, vitestExit = '0'] = args;

let report;
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch (err) {
  console.error(
    `summarize: no vitest report at ${reportPath} (${err.code ?? err.message}): vitest did not finish`,
  );
  console.log('0 passed, 1 failed');
  process.exit(1);
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of report.testResults ?? []) {
  let fileFailed = 0;
  for (const t of file.assertionResults ?? []) {
    if (t.status === 'passed') passed++;
    else if (t.status === 'failed') fileFailed++;
    else skipped++; // skipped, pending, todo, disabled
  }
  if (file.status === 'failed' && fileFailed === 0) {
    console.error(`summarize: ${file.name} failed outside any test: ${(file.message ?? '').split('\n')[0]}`);
    fileFailed = 1;
  }
  failed += fileFailed;
}

if (vitestExit !== '0' && failed === 0) {
  console.error(
    `summarize: vitest exited with code ${vitestExit} though no test failed: an error outside any test (see above) counts as one failure`,
  );
  failed = 1;
}
for (const check of also) {
  if (check.exit === '0') passed++;
  else {
    failed++;
    console.error(`summarize: ${check.name} failed (exit ${check.exit})`);
  }
}

console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
