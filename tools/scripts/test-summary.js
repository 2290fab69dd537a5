// Sums the counts tools/jest/results-reporter.js left in every project's .test-results/ and
// prints the one line CI ends with. `--extra-failed N` adds checks that failed outside jest.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const extraFailed = Number(process.argv[process.argv.indexOf('--extra-failed') + 1] || 0);
let passed = 0;
let failed = extraFailed;
for (const group of ['libs', 'services', 'tools', 'deploy']) {
  const groupDir = path.join(root, group);
  if (!fs.existsSync(groupDir)) continue;
  for (const project of fs.readdirSync(groupDir)) {
    const dir = path.join(groupDir, project, '.test-results');
    if (!fs.existsSync(dir)) continue;
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const counts = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      passed += counts.passed;
      failed += counts.failed;
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
