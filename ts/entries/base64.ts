/** Base64 without Node's Buffer: this code runs in browsers and workers too. */

export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** btoa/atob work on "binary strings"; chunks keep `String.fromCharCode` under argument limits. */
export function bytesToBase64(bytes: Uint8Array): string {
    let binary = ''
    for (let start = 0; start < bytes.length; start += 0x8000) {
        binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000))
    }
    return btoa(binary)
}

export function base64ToBytes(text: string): Uint8Array {
    const binary = atob(text)
    const bytes = new Uint8Array(binary.length)
    for (let index = 0; index < binary.length; index++) {
        bytes[index] = binary.charCodeAt(index)
    }
    return bytes
}
