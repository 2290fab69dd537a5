// Records how many tests a jest run passed and failed, so tools/scripts/test.sh can end with
// one "N passed, N failed" line over every project it ran. The file sits in the project's
// `.test-results/` folder, which Nx caches with the test target, so a cached run still counts.
const fs = require('node:fs');
const path = require('node:path');

class ResultsReporter {
  constructor(globalConfig, options) {
    this.file = path.join(options.projectDir, '.test-results', `${options.kind}.json`);
  }

  onRunComplete(_contexts, results) {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const counts = {
      passed: results.numPassedTests,
      // a suite that could not run (syntax error, failing hook) fails without failing a test
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
    };
    fs.writeFileSync(this.file, `${JSON.stringify(counts)}\n`);
  }
}

module.exports = ResultsReporter;
