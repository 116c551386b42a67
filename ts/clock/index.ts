export * from './hlc'
