import ArgumentParser
import Foundation
import Generation
import ModelIO
import Tasks
import TensorCore
import Training

/// R1's stage table with our numbers, from `samplesPerPrompt` samples a held-out prompt at
/// temperature 1 (as R1 reports pass@1 from samples; a greedy answer hides how a stage changes the
/// distribution): per stage, pass@1 on each reasoning task, the reward model's mean score of the
/// answers to general prompts (and the share a reader's rule, polite and short, accepts), and the
/// mean completion length in tokens. Each stage's figures are cached in OUT/<stage>/eval.json.
struct R1StageTable {
    let recipe: R1Recipe
    static let maxNewTokens = 64
    static let samplesPerPrompt = 4

    struct Figures: Codable {
        var stage: String
        var arithmetic: Double
        var countdown: Double
        var generalScore: Double
        var politeShort: Double
        var meanLength: Double
    }

    func evaluate() throws -> [Figures] {
        let judgeModel = try recipe.output(recipe.file.judge)
        let judge = try RewardModelReward.load(judgeModel.path, weight: 1)
        return try recipe.file.table.compactMap { name -> Figures? in
            guard let model = recipe.finished(name) else { return nil }
            let cache = recipe.directory(name).appendingPathComponent("eval.json")
            if let data = try? Data(contentsOf: cache), let figures = try? JSONDecoder().decode(Figures.self, from: data) { return figures }
            recipe.log("evaluating \(name)")
            let figures = try evaluate(name, model: model, judge: judge)
            try AtomicFile.write(try JSONEncoder().encode(figures), to: cache)
            return figures
        }
    }

    func evaluate(_ name: String, model: URL, judge: RewardModelReward) throws -> Figures {
        let bundle = try ModelBundle.load(model.path)
        let generator = Generator(model: bundle.model) { [codec = bundle.codec] in codec.decode($0) }
        var lengths: [Int] = []
        // rows: each held-out row `samplesPerPrompt` times; texts: one sample each.
        func sample(_ dataset: String) throws -> (rows: [Row], texts: [String]) {
            let rows = try JSONL.read(R1Data.file(dataset, in: recipe.out)).rows.flatMap { Array(repeating: $0, count: Self.samplesPerPrompt) }
            var texts: [String] = []
            var rng = SeededGenerator(seed: 0)
            for start in stride(from: 0, to: rows.count, by: 64) {
                let chunk = rows[start..<min(start + 64, rows.count)]
                let prompts = try chunk.map { row -> [Int32] in
                    guard case .text(let text) = row.prompt else { throw ValidationError("\(dataset): chat prompts are not used here") }
                    return try bundle.codec.encode(text)
                }
                let out = generator.generate(prompts: prompts, config: .init(maxNewTokens: Self.maxNewTokens, sampling: .init(temperature: 1),
                                                                           eosTokenIDs: bundle.codec.eosTokenIDs), rng: &rng)
                texts += out.map { $0.text }
                lengths += out.map { $0.ids.filter { !bundle.codec.eosTokenIDs.contains($0) }.count }
            }
            return (rows, texts)
        }
        func accuracy(_ dataset: String, _ verifier: Verifier) throws -> Double {
            let (rows, texts) = try sample(dataset)
            return Double(verifier.checkAll(texts, rows.map(\.columns)).filter { $0 == true }.count) / Double(max(rows.count, 1))
        }
        let arithmetic = try accuracy("arithmetic_test", Verifiers.mathAnswer())
        let countdown = try accuracy("countdown_test", Verifiers.countdown())
        let (rows, texts) = try sample("general_test")
        let columns = rows.map { row -> [String: JSONValue] in
            var c = row.columns
            if case .text(let prompt) = row.prompt { c["prompt"] = .string(prompt) }
            return c
        }
        let scores = try judge.score(completions: texts, columns: columns).compactMap { $0 }
        return Figures(stage: name, arithmetic: arithmetic, countdown: countdown, generalScore: scores.reduce(0, +) / Double(max(scores.count, 1)),
                       politeShort: texts.map(ChatPreferences.judge).reduce(0, +) / Double(max(texts.count, 1)),
                       meanLength: Double(lengths.reduce(0, +)) / Double(max(lengths.count, 1)))
    }

    static func markdown(_ rows: [Figures]) -> String {
        var lines = ["| stage | arithmetic pass@1 | countdown pass@1 | general: reward-model score | general: polite & short | mean length (tokens) |",
                     "|---|---|---|---|---|---|"]
        for r in rows {
            lines.append(String(format: "| %@ | %.1f%% | %.1f%% | %+.2f | %.0f%% | %.1f |", r.stage as NSString, 100 * r.arithmetic, 100 * r.countdown,
                                r.generalScore, 100 * r.politeShort, r.meanLength))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
