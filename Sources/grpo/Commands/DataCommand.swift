import ArgumentParser
import Foundation
import Tasks

/// `grpo data ...`: JSONL datasets from the built-in tasks.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Make JSONL datasets from the built-in tasks.",
        subcommands: [Make.self, Preferences.self]
    )

    /// `grpo data preferences --train N --test M --seed S --out DIR`.
    struct Preferences: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write preference pairs (polite, short answers preferred over rude or rambling ones) and general prompts.",
            discussion: """
                DIR/pairs-train.jsonl and DIR/pairs-test.jsonl hold {prompt, chosen, rejected, kind} rows for grpo train rm;                 DIR/general-train.jsonl and DIR/general-test.jsonl hold {prompt, kind, answer, completion} rows whose completions                 mix the styles. Held-out rows use questions train never asks. The same seed gives the same files.
                """)

        @Option(help: "Rows per training file.") var train = 2000
        @Option(help: "Rows per held-out file.") var test = 200
        @Option(help: "Random seed.") var seed: UInt64 = 0
        @Option(help: "The directory to write into (created if missing).") var out: String

        func validate() throws {
            guard train >= 1, test >= 1 else { throw ValidationError("--train and --test must be >= 1, got \(train) and \(test)") }
        }

        func run() throws {
            let task = ChatPreferences(), directory = URL(fileURLWithPath: out)
            for split in ["train", "test"] {
                let count = split == "train" ? train : test
                try JSONL.write(task.pairs(count: count, split: split, seed: seed), to: directory.appendingPathComponent("pairs-\(split).jsonl"))
                try JSONL.write(task.prompts(count: count, split: split, seed: seed), to: directory.appendingPathComponent("general-\(split).jsonl"))
            }
            print("wrote pairs-{train,test}.jsonl and general-{train,test}.jsonl (\(train)/\(test) rows each) to \(directory.path)")
        }
    }

    /// `grpo data make --task NAME --train N --test M --seed S --out DIR`.
    struct Make: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write DIR/train.jsonl and DIR/test.jsonl for a built-in task.",
            discussion: """
                Each row has `prompt` (text, or chat messages with --format chat/chat-r1), `answer`, `completion` \
                (a correct target completion, for SFT) and the task's columns (countdown: `numbers`, `target`). \
                The same seed gives the same files; no test problem appears in train. Tasks: \
                \(BuiltinTasks.names.joined(separator: ", ")). Example, 3-digit addition in the R1 format: \
                grpo data make --task arithmetic --digits 3 --operations + --train 20000 --test 200 --seed 1 --out data/add3
                """
        )

        @Option(help: "The task: \(BuiltinTasks.names.joined(separator: " or ")).") var task: String
        @Option(help: "How many training rows.") var train: Int
        @Option(help: "How many held-out rows (never among the training rows).") var test: Int
        @Option(help: "Random seed; the same seed gives the same files.") var seed: UInt64 = 0
        @Option(help: "The directory to write train.jsonl and test.jsonl into (created if missing).") var out: String
        @Option(help: "Prompt format: \(PromptFormat.names.joined(separator: ", ")).") var format = "r1"
        @Option(help: "arithmetic: digits per operand (default 3).") var digits: Int?
        @Option(help: "arithmetic: comma-separated operations from +, -, * (x also means *); default +.")
        var operations: String?
        @Option(help: "countdown: how many numbers per problem, N or A-B (default 3-4).") var numbers: String?
        @Option(help: "countdown: numbers are drawn from 1...N (default 100).") var maxNumber: Int?
        @Option(help: "countdown: targets lie in 1...N (default 1000).") var maxTarget: Int?
        @Flag(help: "countdown: every number must be used exactly once (default: at most once).")
        var exactlyOnce = false

        func validate() throws {
            guard train >= 0 else { throw ValidationError("--train must be >= 0, got \(train)") }
            guard test >= 0 else { throw ValidationError("--test must be >= 0, got \(test)") }
            guard train + test > 0 else { throw ValidationError("--train and --test are both 0: nothing to write") }
            guard PromptFormat(name: format) != nil else {
                throw ValidationError("--format must be one of \(PromptFormat.names.joined(separator: ", ")), got '\(format)'")
            }
            _ = try makeTask()
        }

        func run() throws {
            let splits = try makeDataset(task: makeTask(), train: train, test: test, seed: seed,
                                         format: PromptFormat(name: format)!)
            let directory = URL(fileURLWithPath: out)
            for (name, rows) in [("train", splits.train), ("test", splits.test)] {
                try JSONL.write(rows, to: directory.appendingPathComponent("\(name).jsonl"))
            }
            print("wrote \(splits.train.count) rows to \(directory.appendingPathComponent("train.jsonl").path) and "
                  + "\(splits.test.count) to \(directory.appendingPathComponent("test.jsonl").path) "
                  + "(task \(task), format \(format), seed \(seed))")
        }

        /// The task from --task and its options; option errors become `ValidationError`s.
        func makeTask() throws -> any TaskGenerator {
            let options = TaskOptions(
                digits: digits,
                operations: operations.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
                numberCount: try numbers.map(Self.countRange),
                maxNumber: maxNumber, maxTarget: maxTarget, exactlyOnce: exactlyOnce ? true : nil)
            do {
                return try BuiltinTasks.make(task, options: options)
            } catch let error as TaskError {
                throw ValidationError(error.description)
            }
        }

        /// "4" or "3-4".
        static func countRange(_ text: String) throws -> ClosedRange<Int> {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard let low = parts.first ?? nil, let high = parts.last ?? nil, parts.count <= 2, low <= high else {
                throw ValidationError("--numbers must be N or A-B with A <= B, got '\(text)'")
            }
            return low...high
        }
    }
}
