const unit = require('../../jest.preset.js').unitConfig(__dirname);

// the web app's pure code (the rule builder's model) is tested with the service's unit tests
module.exports = { ...unit, testMatch: [...unit.testMatch, '<rootDir>/web/src/**/*.spec.ts'] };
