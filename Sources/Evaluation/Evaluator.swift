#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Generation
import Tasks
import TensorCore
import Transformer

/// Held-out evaluation: greedy accuracy, pass@1 (mean correctness of k samples), unbiased pass@k
/// (Chen et al. 2021) and maj@k (the most common final answer among k samples is correct).
public struct EvaluationReport: Sendable, Equatable {
    public var problems: Int
    public var k: Int
    public var greedy: Double
    public var pass1: Double
    public var passK: Double
    public var majK: Double
    /// Share of all completions (greedy and sampled) the `also` verifiers accept, by name: for code,
    /// `executable` (the code runs to the end, DeepSeek-R1's executability).
    public var also: [String: Double] = [:]

    /// As metrics (eval/greedy, eval/pass@1, eval/pass@k, eval/maj@k, eval/<also>).
    public var metrics: [String: Double] {
        ["eval/greedy": greedy, "eval/pass@1": pass1, "eval/pass@\(k)": passK, "eval/maj@\(k)": majK]
            .merging(also.map { ("eval/" + $0.key, $0.value) }) { a, _ in a }
    }
}

public struct Evaluator {
    public let model: DecoderModel
    public let decode: ([Int32]) -> String
    public let eosTokenIDs: Set<Int32>
    /// Whether a completion answers a row (nil: cannot judge; such rows count as wrong), and its
    /// final answer for majority voting.
    public let verifier: Verifier
    /// More checks reported as shares of all completions (e.g. "executable": the code runs).
    public let also: [String: Verifier]

    public init(model: DecoderModel, decode: @escaping ([Int32]) -> String, eosTokenIDs: Set<Int32>, verifier: Verifier,
                also: [String: Verifier] = [:]) {
        self.model = model
        self.decode = decode
        self.eosTokenIDs = eosTokenIDs
        self.verifier = verifier
        self.also = also
    }

    /// Greedy accuracy alone: the fraction of `prompts` whose greedy completion (`maxNewTokens` at
    /// most, `batch` prompts per generation call) the verifier accepts; unjudgeable rows count as wrong.
    public func greedyAccuracy(prompts: [[Int32]], columns: [[String: JSONValue]], maxNewTokens: Int, batch: Int = 64) -> Double {
        let generator = Generator(model: model, detokenize: decode)
        var rng = SeededGenerator(seed: 0)
        var correct = 0
        for start in stride(from: 0, to: prompts.count, by: max(batch, 1)) {
            let range = start..<min(start + max(batch, 1), prompts.count)
            let out = generator.generate(prompts: Array(prompts[range]), config: .init(maxNewTokens: maxNewTokens, sampling: .init(temperature: 0),
                                                                                       eosTokenIDs: eosTokenIDs), rng: &rng)
            correct += verifier.checkAll(out.map(\.text), Array(columns[range])).filter { $0 == true }.count
        }
        return Double(correct) / Double(max(prompts.count, 1))
    }

    /// Unbiased pass@k from n samples of which c are correct: 1 - C(n - c, k) / C(n, k).
    public static func passAtK(n: Int, c: Int, k: Int) -> Double {
        if c <= 0 { return 0 }
        if n - c < k { return 1 }
        var product = 1.0
        for i in (n - c + 1)...n { product *= 1 - Double(k) / Double(i) }
        return 1 - product
    }

    /// Evaluates `prompts` (token ids) with their rows' columns: one greedy completion and k
    /// samples at `temperature` each, `maxNewTokens` at most.
    /// `record` sees, for each prompt (its index), the texts (greedy first, then the k samples) and
    /// their verdicts.
    public func run(prompts: [[Int32]], columns: [[String: JSONValue]], k: Int, temperature: Float, maxNewTokens: Int,
                    seed: UInt64, batch: Int = 64, record: ((Int, [String], [Bool?]) -> Void)? = nil,
                    progress: ((_ problemsDone: Int) -> Void)? = nil) -> EvaluationReport {
        let generator = Generator(model: model, detokenize: decode)
        var rng = SeededGenerator(seed: seed)
        var greedy = 0.0, pass1 = 0.0, passK = 0.0, majK = 0.0, total = 0.0, alsoCounts: [String: Double] = [:]
        let perBatch = max(1, batch / max(k, 1))
        for start in stride(from: 0, to: prompts.count, by: perBatch) {
            let range = start..<min(start + perBatch, prompts.count)
            let chunk = Array(prompts[range])
            let greedyOut = generator.generate(prompts: chunk, config: .init(maxNewTokens: maxNewTokens, sampling: .init(temperature: 0),
                                                                             eosTokenIDs: eosTokenIDs), rng: &rng)
            let samples = generator.generate(prompts: chunk.flatMap { [[Int32]](repeating: $0, count: k) },
                                             config: .init(maxNewTokens: maxNewTokens, sampling: .init(temperature: temperature),
                                                           eosTokenIDs: eosTokenIDs), rng: &rng)
            // Every completion of the chunk judged at once (code runs in one sandbox batch).
            let texts = greedyOut.map(\.text) + samples.map(\.text)
            let rows = Array(columns[range]) + range.flatMap { [[String: JSONValue]](repeating: columns[$0], count: k) }
            let verdicts = verifier.checkAll(texts, rows)
            for (name, check) in also { alsoCounts[name, default: 0] += Double(check.checkAll(texts, rows).filter { $0 == true }.count) }
            total += Double(texts.count)
            for (n, row) in range.enumerated() {
                if verdicts[n] == true { greedy += 1 }
                let sampleVerdicts = verdicts[(chunk.count + n * k)..<(chunk.count + (n + 1) * k)]
                record?(row, [texts[n]] + samples[(n * k)..<((n + 1) * k)].map(\.text), [verdicts[n]] + Array(sampleVerdicts))
                let correct = sampleVerdicts.filter { $0 == true }.count
                pass1 += Double(correct) / Double(k)
                passK += Self.passAtK(n: k, c: correct, k: k)
                majK += majorityIsCorrect(Array(samples[(n * k)..<((n + 1) * k)].map(\.text)), Array(sampleVerdicts), columns[row]) ? 1 : 0
            }
            progress?(range.upperBound)
        }
        let count = Double(max(prompts.count, 1))
        return EvaluationReport(problems: prompts.count, k: k, greedy: greedy / count, pass1: pass1 / count,
                                passK: passK / count, majK: majK / count, also: alsoCounts.mapValues { $0 / max(total, 1) })
    }

    /// Whether the most common final answer (ties: the one seen first) is correct, from the samples'
    /// verdicts.
    func majorityIsCorrect(_ texts: [String], _ verdicts: [Bool?], _ columns: [String: JSONValue]) -> Bool {
        var counts: [String: (count: Int, first: Int)] = [:]
        for (i, text) in texts.enumerated() {
            guard let answer = verifier.finalAnswer(text) else { continue }
            let current = counts[answer] ?? (0, i)
            counts[answer] = (current.count + 1, current.first)
        }
        guard let best = counts.values.max(by: { ($0.count, -$0.first) < ($1.count, -$1.first) }) else { return false }
        return verdicts[best.first] == true
    }
}
