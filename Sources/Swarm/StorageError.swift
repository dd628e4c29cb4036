import Foundation
import Metainfo

/// Storage failures, worded for the user. `isDiskFull` lets the node say
/// "free some space and run the command again" rather than a bare errno.
public struct StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public let code: Int32

    public init(path: String, code: Int32) {
        self.path = path
        self.code = code
        reason = systemErrorMessage(code)
    }

    public init(path: String, reason: String, code: Int32 = 0) {
        self.path = path
        self.reason = reason
        self.code = code
    }

    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }

    public var description: String {
        if isDiskFull { return "\(path): the disk is full (\(reason)); free some space and run the same command again to resume" }
        return "\(path): \(reason)"
    }
}
