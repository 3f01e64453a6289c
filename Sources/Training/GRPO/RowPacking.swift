import Transformer

/// How the policy and reference passes lay rollouts out in rows, and how big a forward/backward
/// slice is. None of it changes the logprobs, the loss or the gradient; it changes the cost.
public struct RowPacking: Sendable, Equatable {
    /// How a group's completions share rows.
    public enum Packing: Sendable, Equatable {
        /// One row per rollout: prompt + completion.
        case none
        /// The completions per row that make the pass cheapest (`completionsPerRow`).
        case automatic
        /// At most this many completions per row.
        case completions(Int)
    }

    public var packing = Packing.automatic
    /// Tokens per forward/backward slice: bounds activation memory (about 31 KB per token for the
    /// tiny preset) without changing the loss.
    public var sliceTokens = 1024

    public init() {}
}

/// Token rows for the model, and the flat position predicting each completion token (in rollout
/// order, token by token).
struct PackedBatch {
    let input: DecoderModel.Batch
    let positions: [Int]
    let targets: [Int32]
}

/// Lays rollouts of `prompts` out in rows: consecutive rollouts of one prompt (a group) share rows,
/// the prompt once, then each completion as its own attention segment that sees the prompt and
/// itself (mask 1 for the prompt, 2, 3, ... for the completions, 0 for padding; positions restart
/// after the prompt). The logprobs are those of separate prompt + completion rows, and the prompt's
/// tokens go through the model once per row instead of once per completion.
struct RowPacker {
    let prompts: [TrainingPrompt]
    let model: DecoderConfig
    let options: RowPacking

    func makeBatch(_ rollouts: [Rollout]) -> PackedBatch {
        let rows = packedRows(rollouts)
        let time = max(rows.map { rowTokens($0, of: rollouts) }.max() ?? 0, 1)
        var ids = [Int32](repeating: 0, count: rows.count * time), mask = [Int32](repeating: 0, count: rows.count * time)
        var tokenPositions = [Int32](repeating: 0, count: rows.count * time)
        var predicting = [Int](repeating: 0, count: rollouts.count), starts = [Int](repeating: 0, count: rollouts.count)
        for (b, row) in rows.enumerated() {
            let prompt = prompts[rollouts[row[0]].prompt].ids
            var at = b * time
            for (j, token) in prompt.enumerated() {
                ids[at] = token
                mask[at] = 1
                tokenPositions[at] = Int32(j)
                at += 1
            }
            for (segment, i) in row.enumerated() {
                predicting[i] = b * time + prompt.count - 1  // the prompt's last token predicts each first token
                starts[i] = at
                for (j, token) in rollouts[i].completion.ids.enumerated() {
                    ids[at] = token
                    mask[at] = Int32(segment + 2)
                    tokenPositions[at] = Int32(prompt.count + j)
                    at += 1
                }
            }
        }
        var positions: [Int] = [], targets: [Int32] = []
        for (i, r) in rollouts.enumerated() {
            for (j, token) in r.completion.ids.enumerated() {
                positions.append(j == 0 ? predicting[i] : starts[i] + j - 1)
                targets.append(token)
            }
        }
        return PackedBatch(input: .init(ids: ids, positions: tokenPositions, attentionMask: mask, batch: rows.count, time: time),
                           positions: positions, targets: targets)
    }

    /// The rows `makeBatch` lays out: indices of consecutive rollouts, up to `completionsPerRow`
    /// of one prompt per row.
    func packedRows(_ rollouts: [Rollout]) -> [[Int]] {
        var rows: [[Int]] = []
        var run = 0
        while run < rollouts.count {
            var end = run + 1
            while end < rollouts.count && rollouts[end].prompt == rollouts[run].prompt { end += 1 }
            let lengths = rollouts[run..<end].map(\.completion.ids.count)
            let k = completionsPerRow(prompt: prompts[rollouts[run].prompt].ids.count,
                                      completion: lengths.reduce(0, +) / lengths.count, group: end - run)
            rows += stride(from: run, to: end, by: k).map { Array($0..<min($0 + k, end)) }
            run = end
        }
        return rows
    }

    /// Tokens of a packed row: its prompt once, then its completions.
    func rowTokens(_ row: [Int], of rollouts: [Rollout]) -> Int {
        prompts[rollouts[row[0]].prompt].ids.count + row.reduce(0) { $0 + rollouts[$1].completion.ids.count }
    }

    /// Completions per row for a group of `group` completions of about `c` tokens after a prompt
    /// of `p`: the k minimising ceil(group / k) rows x T (matmul + 2 attention(T)) multiply-adds
    /// for rows of T = p + k c tokens. Packing saves the prompt's repeats, but attention over a
    /// row costs the square of its length (and runs at about half the matmuls' rate here, hence 2).
    func completionsPerRow(prompt p: Int, completion c: Int, group: Int) -> Int {
        switch options.packing {
        case .none: return 1
        case .completions(let k): return max(1, k)
        case .automatic:
            func cost(_ k: Int) -> Double {
                let t = p + k * max(c, 1)
                let macs = model.forwardMACsPerToken(time: t)
                return Double((group + k - 1) / k) * Double(t) * Double(macs.matmul + 2 * macs.attention)
            }
            return (1...max(group, 1)).min { cost($0) < cost($1) } ?? 1
        }
    }

    /// Consecutive runs of whole packed rows holding about `sliceTokens` tokens each.
    func slices(of part: [Rollout]) -> [[Rollout]] {
        var slices: [[Rollout]] = [], current: [Rollout] = [], tokens = 0
        for row in packedRows(part) {
            let n = rowTokens(row, of: part)
            if !current.isEmpty && tokens + n > options.sliceTokens {
                slices.append(current)
                current = []
                tokens = 0
            }
            current += row.map { part[$0] }
            tokens += n
        }
        if !current.isEmpty { slices.append(current) }
        return slices
    }
}
