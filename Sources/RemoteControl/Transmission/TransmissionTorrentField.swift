/// A `torrent-get` field this daemon answers, by its Transmission name.
/// Requests name fields as strings; they are resolved to these once per
/// request (`TransmissionTorrentFields.Plan`), not once per torrent.
public enum TransmissionTorrentField: String, CaseIterable, Sendable {
    case id, queuePosition, hashString, name, status, error, errorString, eta
    case leftUntilDone, desiredAvailable, sizeWhenDone, totalSize, percentDone, metadataPercentComplete
    case recheckProgress, haveValid, haveUnchecked, rateDownload, rateUpload
    case peersConnected, peersSendingToUs, peersGettingFromUs, peersFrom
    case uploadRatio, downloadDir, addedDate, startDate, doneDate, activityDate, secondsDownloading, secondsSeeding
    case downloadedEver, uploadedEver, corruptEver, magnetLink, pieceCount, pieceSize, pieces
    case isFinished, isStalled, isPrivate, labels
    case peerLimit = "peer-limit"
    case downloadLimit, downloadLimited, uploadLimit, uploadLimited, honorsSessionLimits, bandwidthPriority
    case seedRatioMode, seedRatioLimit, seedIdleMode, seedIdleLimit
    case comment, creator, dateCreated, torrentFile
    case trackers, trackerStats, webseeds, webseedsSendingToUs
    case files, fileStats, priorities, wanted, peers
}
