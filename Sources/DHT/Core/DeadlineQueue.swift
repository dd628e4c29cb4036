/// A binary min-heap of timers. Entries are never removed early: the owner
/// checks, when one fires, whether it still matters (cheaper than searching).
struct DeadlineQueue<Payload: Sendable>: Sendable {
    // A struct, not a tuple: generic tuples cost a metadata lookup per access.
    private struct Entry: Sendable {
        var deadline: DHTInstant
        var payload: Payload
    }

    private var heap: [Entry] = []

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var earliest: DHTInstant? { heap.first?.deadline }

    mutating func push(_ deadline: DHTInstant, _ payload: Payload) {
        heap.append(Entry(deadline: deadline, payload: payload))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: DHTInstant) -> Payload? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
                if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.payload
    }
}
