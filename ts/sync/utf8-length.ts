/**
 * Bytes `text` takes as UTF-8, counted without encoding it (batch sizing runs per entry, and
 * `TextEncoder` would allocate a copy each time; `Buffer` does not exist in browsers). A lone
 * surrogate counts as the 3 bytes of the U+FFFD it is encoded as.
 */
export function utf8Length(text: string): number {
    let bytes = 0
    for (let index = 0; index < text.length; index++) {
        const unit = text.charCodeAt(index)
        if (unit < 0x80) {
            bytes += 1
        } else if (unit < 0x800) {
            bytes += 2
        } else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
            bytes += 4
            index++
        } else {
            bytes += 3
        }
    }
    return bytes
}
