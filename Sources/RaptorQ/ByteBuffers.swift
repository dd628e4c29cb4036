/// Typed-throwing access to the bytes of arrays (the standard library's
/// `withUnsafeBytes` only rethrows untyped errors).
extension Array where Element == UInt8 {
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(RaptorQError) -> R) throws(RaptorQError) -> R {
        let result: Result<R, RaptorQError> = withUnsafeBytes { buffer in
            Result { () throws(RaptorQError) -> R in try body(buffer) }
        }
        return try result.get()
    }

    mutating func withMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(RaptorQError) -> R) throws(RaptorQError) -> R {
        let result: Result<R, RaptorQError> = withUnsafeMutableBytes { buffer in
            Result { () throws(RaptorQError) -> R in try body(buffer) }
        }
        return try result.get()
    }
}
