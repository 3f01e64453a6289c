import Foundation
import ModelIO
import Tasks
import Training

/// A recipe's `trainer: sample` stage: rejection sampling (`RejectionSampler`) from a stage's model
/// into OUT/<stage>/rows.jsonl, the SFT rows later stages name by the stage's name.
enum R1Sampling {
    static let keys = ["k", "keep", "pass_rate", "dedupe", "threshold", "max_new_tokens", "temperature", "reward_funcs", "reward_weights", "prompts"]

    static func run(settings: [SettingEntry], model: URL, data: URL, into dir: URL, seed: Int, source: String) throws -> URL {
        var sampler = RejectionSampler()
        sampler.seed = UInt64(seed)
        var rewards = RewardConfig()
        var prompts = 0
        func bad(_ entry: SettingEntry, _ expected: String) -> SettingsError {
            .badValue(source: entry.source, key: entry.key, reason: "expected \(expected), got \(entry.value)")
        }
        func int(_ e: SettingEntry, _ range: ClosedRange<Int>) throws -> Int {
            guard case .int(let v) = e.value, range.contains(v) else { throw bad(e, "an integer in \(range)") }
            return v
        }
        func number(_ e: SettingEntry) throws -> Double {
            switch e.value {
            case .int(let v): return Double(v)
            case .double(let v) where v.isFinite: return v
            default: throw bad(e, "a number")
            }
        }
        func strings(_ e: SettingEntry) throws -> [String] {
            guard case .list(let items) = e.value else { throw bad(e, "a list") }
            return try items.map { item in
                switch item {
                case .string(let s): return s
                case .int(let v): return String(v)
                case .double(let v): return String(v)
                default: throw bad(e, "a list of names or numbers")
                }
            }
        }
        for e in settings {
            switch e.key {
            case "k": sampler.k = try int(e, 1...1024)
            case "keep":
                guard case .string(let s) = e.value, let keep = RejectionSampler.Keep(rawValue: s) else { throw bad(e, "best or all-correct") }
                sampler.keep = keep
            case "pass_rate":
                let parts: [Double]
                switch e.value {
                case .string(let s): parts = s.split(separator: ":").compactMap { Double($0) }
                case .list: parts = try strings(e).compactMap(Double.init)
                default: parts = []
                }
                guard parts.count == 2, parts[0] <= parts[1], parts.allSatisfy({ (0...1).contains($0) }) else { throw bad(e, "LOW:HIGH within 0...1") }
                sampler.passRate = parts[0]...parts[1]
            case "dedupe":
                guard case .bool(let b) = e.value else { throw bad(e, "true or false") }
                sampler.dedupe = b
            case "threshold": sampler.threshold = try number(e)
            case "max_new_tokens": sampler.maxNewTokens = try int(e, 1...1_000_000)
            case "temperature":
                sampler.temperature = try number(e)
                guard sampler.temperature > 0 else { throw bad(e, "a number > 0") }
            case "reward_funcs": rewards.functions = try strings(e)
            case "reward_weights":
                let weights = try strings(e).map(Double.init)
                guard weights.allSatisfy({ $0 != nil }) else { throw bad(e, "a list of numbers") }
                rewards.weights = weights.compactMap { $0 }
            case "prompts": prompts = try int(e, 0...100_000_000)
            default:
                throw SettingsError.unknownKey(source: e.source, key: e.key, suggestion: keys.min { distance($0, e.key) < distance($1, e.key) })
            }
        }
        try rewards.check()
        let bundle = try ModelBundle.load(model.path)
        let formatter = try PromptFormatter(tokenizer: bundle.tokenizer, useChatTemplate: false, model: model.path)
        var rows = try DatasetFile.rows(data.path)
        if prompts > 0 { rows = Array(rows.prefix(prompts)) }
        let loaded = try TrainingPrompt.load(rows: rows, file: data.path, formatter: formatter, codec: bundle.codec,
                                             positions: bundle.model.config.maxPositionEmbeddings, completionTokens: sampler.maxNewTokens)
        let (kept, summary) = try sampler.run(model: bundle.model, codec: bundle.codec, prompts: loaded, rows: rows, rewards: try RewardScorer(rewards))
        let url = dir.appendingPathComponent("rows.jsonl")
        try JSONL.write(kept, to: url)
        print("rejection sampling: \(summary)")
        return url
    }

    /// Letters differing (for a key suggestion).
    static func distance(_ a: String, _ b: String) -> Int {
        zip(a, b).filter { $0 != $1 }.count + abs(a.count - b.count)
    }
}
