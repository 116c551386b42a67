/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/ts'],
  testMatch: ['**/*.test.ts'],
  // Type errors are caught by `npm run typecheck`; isolated modules keep the suite fast.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 30000,
}
