const { unitConfig } = require('../../jest.preset.js');

module.exports = {
  ...unitConfig(__dirname),
  setupFiles: ['<rootDir>/src/testing/fast-check-seed.ts'],
};
