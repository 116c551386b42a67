#!/usr/bin/env node
import { missingDependencyMessage, missingServerModule } from './dependencies'

/**
 * Process entry of `synclog`: everything testable lives in cli.ts, which checks the packages
 * each command needs before loading them. The CLI is required here rather than imported, so
 * that even a server package it loads eagerly gets the install line instead of a stack trace.
 */
let cli: typeof import('./cli')
try {
    cli = require('./cli') as typeof import('./cli')
} catch (error) {
    const missing = missingServerModule(error)
    if (!missing) {
        throw error
    }
    process.stderr.write(`synclog: ${missingDependencyMessage([missing])}\n`)
    process.exit(1)
}

cli.main(process.argv.slice(2)).then(({ exitCode, service }) => {
    if (!service) {
        process.exitCode = exitCode
        return
    }
    const stop = () => {
        service.close().then(
            () => process.exit(0),
            () => process.exit(1),
        )
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
})
