import CKernels

extension BlockSolver {
    /// The H HDPC rows (§5.3.3.3) with the solved symbols substituted: row h says
    /// Σ_j G_HDPC[h][j]·C_j + C[K'+S+h] = 0 with G_HDPC = MT·Γ. Since
    /// (MT·Γ)·C = MT·y with y_k = α·y_{k-1} + C_k, one pass over the K'+S columns
    /// builds both the coefficients over the inactive columns (GF(256) vectors)
    /// and the right-hand sides (symbols): per column one multiply by α and the
    /// two XORs that MT's two ones in that column call for; the last column of MT
    /// holds α^h instead.
    mutating func addHDPCRows(to lower: inout LowerSystem) {
        let p = parameters
        let h = p.hdpcSymbols
        let u = peeling.inactiveCount
        let columnCount = p.firstHDPCSymbol
        let alpha: UInt8 = 2
        var y = [UInt8](repeating: 0, count: max(u, 1))
        var accumulators = [UInt8](repeating: 0, count: h * max(u, 1))
        let ySlot = builder.newSlot()
        var yIsZero = true
        let accumulatorSlots = (0..<h).map { _ in builder.newSlot() }
        var accumulatorIsZero = [Bool](repeating: true, count: h)

        func accumulate(into row: Int, coefficient: UInt8) {
            y.withUnsafeBufferPointer { source in
                accumulators.withUnsafeMutableBufferPointer { target in
                    bf_gf256_muladd(target.baseAddress! + row * u, source.baseAddress!, coefficient, u)
                }
            }
            guard !yIsZero else { return }
            let slot = accumulatorSlots[row]
            if accumulatorIsZero[row] {
                builder.copy(slot, ySlot)
                builder.scale(slot, coefficient)
                accumulatorIsZero[row] = false
            } else {
                builder.mulAdd(slot, ySlot, coefficient)
            }
        }

        for k in 0..<columnCount {
            let role = Int(peeling.columnRole[k])
            // Coefficients: y = α·y + (C_k as a combination of inactive symbols).
            y.withUnsafeMutableBufferPointer { vector in
                bf_gf256_scale(vector.baseAddress!, alpha, u)
                if role >= 0 {
                    bf_xor_bits_as_bytes(vector.baseAddress!, inactiveCombination.row(role), u)
                } else {
                    vector[-1 - role] ^= 1
                }
            }
            // Right-hand side: y = α·y + (known part of C_k).
            if role >= 0 {
                if yIsZero { builder.copy(ySlot, Int32(k)); yIsZero = false } else { builder.scaleXor(ySlot, alpha, Int32(k)) }
            } else if !yIsZero {
                builder.scale(ySlot, alpha)
            }
            if k < columnCount - 1 {
                let y32 = UInt32(k + 1)
                let first = Int(RQRandom.rand(y32, 6, UInt32(h)))
                let second = (first + Int(RQRandom.rand(y32, 7, UInt32(h - 1))) + 1) % h
                accumulate(into: first, coefficient: 1)
                accumulate(into: second, coefficient: 1)
            } else {
                for row in 0..<h { accumulate(into: row, coefficient: GF256.alpha(row)) }
            }
        }
        for row in 0..<h {
            let hdpcColumn = p.firstHDPCSymbol + row
            let index = peeling.inactiveIndex(ofColumn: hdpcColumn)!
            accumulators[row * u + index] ^= 1
            if accumulatorIsZero[row] { builder.zero(accumulatorSlots[row]) }
            lower.appendHDPCRow(Array(accumulators[(row * u)..<((row + 1) * u)]), slot: accumulatorSlots[row])
        }
    }
}
