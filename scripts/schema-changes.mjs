// Compares schema.graphql with the last release's schema
// (docs/releases/schema-<version>.graphql, the newest) using graphql-js's
// findBreakingChanges, and fails on a breaking change that CHANGELOG.md's
// "Unreleased" section does not list: a "**Breaking:**" entry must name the
// changed type or field in backticks.
//
//   node scripts/schema-changes.mjs <repository root>
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, findBreakingChanges } from 'graphql';

const root = process.argv[2] ?? '.';
const releases = readdirSync(join(root, 'docs/releases'))
  .filter((f) => /^schema-\d+\.\d+\.\d+\.graphql$/.test(f))
  .sort((a, b) => {
    const v = (f) => f.match(/\d+/g).map(Number);
    const [x, y] = [v(a), v(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
const released = releases.at(-1);
const before = buildSchema(readFileSync(join(root, 'docs/releases', released), 'utf8'));
const now = buildSchema(readFileSync(join(root, 'schema.graphql'), 'utf8'));
const changes = findBreakingChanges(before, now);

const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
const unreleased = changelog.split(/^## /m).find((s) => s.startsWith('Unreleased')) ?? '';
const breaking = unreleased
  .split(/\n(?=- )/)
  .filter((entry) => entry.includes('**Breaking:**'))
  .join('\n');
const named = new Set([...breaking.matchAll(/`([^`]+)`/g)].flatMap((m) => m[1].split(/[^A-Za-z_]+/)));

let unlisted = 0;
for (const change of changes) {
  // "Query.partner changed type from Partner! to Partner." → Query, partner
  const names = (change.description.match(/[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?/) ?? [''])[0].split('.');
  const listed = names.some((n) => named.has(n));
  if (!listed) unlisted += 1;
  console.log(`${listed ? 'listed  ' : 'UNLISTED'} ${change.type}: ${change.description}`);
}
console.log(
  `schema against ${released}: ${changes.length} breaking changes, ${unlisted} not listed in CHANGELOG.md`,
);
process.exit(unlisted > 0 ? 1 : 0);
