import TensorCore
import Transformer

/// How a reward model reads a sequence, as TRL's RewardTrainer trains it and transformers'
/// `...ForSequenceClassification` scores it: the text's tokens plus the end-of-sequence token, and
/// the score at the last token whose id is not the padding id (when padding is the end-of-sequence
/// token, that is the last token before it). Training and the `rm:` reward use this one rule.
public struct RewardSequence: Sendable {
    /// Appended to every text (nil: nothing is appended).
    public let eos: Int32?
    public let pad: Int32

    public init(eos: Int32?, pad: Int32) {
        self.eos = eos
        self.pad = pad
    }

    /// The rule of `model` (its pad_token_id, else the end-of-sequence token) with `codec`'s end-of-sequence token.
    public init(model: DecoderModel, codec: TextCodec) {
        let eos = codec.eosTokenIDs.min()
        self.init(eos: eos, pad: model.config.padTokenID.map(Int32.init) ?? eos ?? 0)
    }

    /// The ids the model sees for `text` (a chat-template rendering, `conversational`, gets no end
    /// token appended: the template ends its turns itself, as TRL).
    public func ids(_ text: String, codec: TextCodec, conversational: Bool = false) throws -> [Int32] {
        let ids = try codec.encode(text)
        guard let eos, !conversational, ids.last != eos else { return ids }
        return ids + [eos]
    }

    /// Right-padded rows (padding: `pad`) and the flat position (into B*T) each row is scored at.
    public func batch(_ rows: [[Int32]]) -> (input: DecoderModel.Batch, positions: [Int]) {
        let time = max(rows.map(\.count).max() ?? 1, 1)
        var ids = [Int32](repeating: pad, count: rows.count * time), mask = [Int32](repeating: 0, count: rows.count * time)
        var positions: [Int] = []
        for (b, row) in rows.enumerated() {
            for (j, id) in row.enumerated() {
                ids[b * time + j] = id
                mask[b * time + j] = 1
            }
            positions.append(b * time + (row.lastIndex { $0 != pad } ?? 0))
        }
        return (.init(ids: ids, attentionMask: mask, batch: rows.count, time: time), positions)
    }

    /// The scores (one per row) of `model` for `rows`, without gradients, `batchSize` rows at a time.
    public func scores(_ model: DecoderModel, _ rows: [[Int32]], batchSize: Int) -> [Double] {
        var scores: [Double] = []
        for start in stride(from: 0, to: rows.count, by: max(batchSize, 1)) {
            let (input, positions) = batch(Array(rows[start..<min(start + max(batchSize, 1), rows.count)]))
            scores += model.scores(Tape(recording: false), input, positions: positions).values.map(Double.init)
        }
        return scores
    }
}
