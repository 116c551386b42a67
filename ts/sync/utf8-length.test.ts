import fc from 'fast-check'
import { utf8Length } from './utf8-length'

describe('utf8Length', () => {
    it('equals the length of TextEncoder output for any string, lone surrogates included', () => {
        const encoder = new TextEncoder()
        fc.assert(
            fc.property(fc.string({ unit: 'binary' }), (text) => utf8Length(text) === encoder.encode(text).byteLength),
            { numRuns: 2000 },
        )
        for (const text of ['', 'a', 'é', '€', '😀', '\ud800', '\udc00x', 'x\ud83d', '\u0000']) {
            expect(utf8Length(text)).toBe(encoder.encode(text).byteLength)
        }
    })
})
