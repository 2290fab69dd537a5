const { unitConfig } = require('../../jest.preset.js');

module.exports = {
  ...unitConfig(__dirname),
  setupFiles: ['<rootDir>/test/fast-check-seed.ts'],
};
