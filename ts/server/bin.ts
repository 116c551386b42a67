#!/usr/bin/env node
import { main } from './cli'

/** Process entry of `synclog`: everything testable lives in cli.ts. */
main(process.argv.slice(2)).then(({ exitCode, service }) => {
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
