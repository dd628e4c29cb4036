/// The simulated network's datagrams in flight, earliest delivery first (ties in the order they
/// were sent). A binary heap: with a 400 ms queue on a 20 Mbit/s link about a thousand packets
/// are in flight at once, and scanning an array for the earliest at every step made the
/// shared-bottleneck simulations too slow for a debug build.
struct EventQueue {
    private var heap: [InFlight] = []

    var first: InFlight? { heap.first }

    mutating func push(_ element: InFlight) {
        heap.append(element)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> InFlight? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let earliest = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, Self.precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.precedes(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return earliest
    }

    private static func precedes(_ a: InFlight, _ b: InFlight) -> Bool {
        (a.deliverAt, a.order) < (b.deliverAt, b.order)
    }
}
