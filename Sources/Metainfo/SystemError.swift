import Foundation

/// The C library's text for an errno value ("No space left on device").
public func systemErrorMessage(_ code: Int32 = errno) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: UnsafePointer(text))
}
