// The GraphQL over HTTP server audit of the `graphql-http` package, against
// a running server (scripts/graphql-checks.sh starts one): an error (a
// MUST or SHOULD not met) fails; the MAYs not taken are printed, and
// docs/api.md lists each with its reason.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node scripts/graphql-http-audit.mjs <graphql url>');
  process.exit(2);
}
const results = await auditServer({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    console.log(`${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`);
  }
}
const musts = results.filter((r) => r.name.startsWith('MUST'));
const passedMusts = musts.filter((r) => r.status === 'ok').length;
console.log(
  `graphql-http audit: ${results.length} audits, ${counts.ok} passed, ${counts.warn} warnings, ` +
    `${counts.error} errors, ${counts.notice} notices; MUST ${passedMusts}/${musts.length}`,
);
process.exit(counts.error > 0 || counts.warn > 0 ? 1 : 0);
