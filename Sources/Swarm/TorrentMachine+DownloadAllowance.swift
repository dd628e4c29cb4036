/// The download limits as the machine sees them: an allowance of bytes it
/// may request, topped up by its adapter from the node's and the torrent's
/// token buckets. Requests are what is metered (not socket reads) because
/// that works the same for blocks and bf_fountain symbols, over TCP and uTP,
/// and leaves no requests waiting in a throttled socket to time out.
extension TorrentMachine {
    /// Turns metering on (the allowance starts empty: the first requests wait
    /// for a grant) or off (requests flow freely again at once).
    public mutating func setDownloadLimited(_ limited: Bool, now: Double) {
        guard limited != (downloadAllowance != nil) else { return }
        downloadAllowance = limited ? 0 : nil
        requestsHeldBack = false
        if !limited { refill(now: now) }
    }

    /// Adds `bytes` to the allowance; a pipeline left short since is filled now.
    public mutating func grantDownload(_ bytes: Int, now: Double) {
        guard let allowance = downloadAllowance else { return }
        downloadAllowance = allowance + bytes
        guard requestsHeldBack, downloadAllowance! > 0 else { return }
        requestsHeldBack = false
        refill(now: now)
    }
}
