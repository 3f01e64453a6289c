/// The train and test rows of a generated dataset.
public struct DatasetSplits: Sendable {
    public var train: [Row]
    public var test: [Row]
}

/// Generates `train` and `test` distinct problems of `task` as rows in `format` (`prompt`, `answer`,
/// `completion` and the task's columns).
///
/// Each split draws from its own stream of `seed`, test first; train rejects every problem whose key is in
/// the test set, so the splits never overlap, and the test split depends only on the seed (not on `train`).
/// Throws `TaskError.notEnoughProblems` when a split cannot be filled with distinct problems.
public func makeDataset(task: any TaskGenerator, train: Int, test: Int, seed: UInt64,
                        format: PromptFormat) throws -> DatasetSplits {
    var testRandom = SeededRandom(seed: seed, stream: 2)
    var trainRandom = SeededRandom(seed: seed, stream: 1)
    let testProblems = try distinctProblems(task, count: test, split: "test", excluding: [], using: &testRandom)
    let testKeys = Set(testProblems.map(\.key))
    let trainProblems = try distinctProblems(task, count: train, split: "train", excluding: testKeys,
                                             using: &trainRandom)
    return DatasetSplits(train: trainProblems.map(format.row(for:)), test: testProblems.map(format.row(for:)))
}

/// `count` problems with distinct keys not in `excluded`; gives up after 10,000 draws in a row bring
/// nothing new (the task is nearly exhausted).
func distinctProblems(_ task: any TaskGenerator, count: Int, split: String, excluding excluded: Set<String>,
                      using random: inout SeededRandom) throws -> [Problem] {
    var problems: [Problem] = []
    var seen = excluded
    var misses = 0
    while problems.count < count {
        let problem = try task.problem(using: &random)
        if seen.insert(problem.key).inserted {
            problems.append(problem)
            misses = 0
        } else {
            misses += 1
            if misses >= 10_000 {
                throw TaskError.notEnoughProblems(task: task.name, split: split, requested: count, found: problems.count)
            }
        }
    }
    return problems
}
