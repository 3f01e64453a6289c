import Generation
import Transformer

/// Rollout rows for PPO's passes: each prompt followed by its response, right-padded, and the flat
/// positions (into B x time) each pass reads. With R responses padded to T tokens and L_i the index
/// of response i's last token:
/// - `logprobPositions`: for t in 0...L_i, the position predicting token t (the policy and reference
///   logprobs; TRL's logits[:, context_length - 1 : -1]);
/// - `valuePositions`: for t in 0...min(L_i + 1, T - 1), the same positions, one longer: the value of
///   response position t is the score head on the hidden state before token t.
struct PPOBatch {
    let input: DecoderModel.Batch
    let targets: [Int32]
    let logprobPositions: [Int]
    let valuePositions: [Int]
    /// (row, t) of each entry of `logprobPositions` and of `valuePositions`, into the R x T layout.
    let logprobCells: [Int]
    let valueCells: [Int]

    init(prompts: [[Int32]], responses: [[Int32]], responseTime: Int) {
        let time = max(zip(prompts, responses).map { $0.count + $1.count }.max() ?? 1, 1)
        var ids = [Int32](repeating: 0, count: prompts.count * time), mask = ids
        var targets: [Int32] = [], lp: [Int] = [], vp: [Int] = [], lc: [Int] = [], vc: [Int] = []
        for (b, (prompt, response)) in zip(prompts, responses).enumerated() {
            let row = prompt + response
            for (j, id) in row.enumerated() {
                ids[b * time + j] = id
                mask[b * time + j] = 1
            }
            let start = b * time + prompt.count - 1
            for t in 0..<response.count {
                lp.append(start + t)
                lc.append(b * responseTime + t)
                targets.append(response[t])
            }
            for t in 0..<min(response.count + 1, responseTime) {
                vp.append(start + t)
                vc.append(b * responseTime + t)
            }
        }
        input = DecoderModel.Batch(ids: ids, attentionMask: mask, batch: prompts.count, time: time)
        self.targets = targets
        logprobPositions = lp
        valuePositions = vp
        logprobCells = lc
        valueCells = vc
    }

    /// Values at `cells` of an R x T layout, zero elsewhere.
    static func scatter(_ values: [Float], cells: [Int], count: Int) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        for (v, c) in zip(values, cells) { out[c] = Double(v) }
        return out
    }
}
