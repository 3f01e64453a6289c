import ArgumentParser
import Foundation

/// The cases of one fuzz run: case `i` is a seeded mutation of seed input `i mod seeds`, so the
/// parent and its child process build the same bytes from (format, seed, seed files, i) alone.
struct FuzzCases {
    let format: FuzzFormat
    let seed: UInt64
    /// The generated seeds, then the seed files in the order given.
    let inputs: [[UInt8]]
    let fields: [[Mutator.Field]]

    init(format: FuzzFormat, seed: UInt64, seedFiles: [String], scratch: URL) throws {
        self.format = format
        self.seed = seed
        var inputs = try format.seeds(scratch: scratch)
        for path in seedFiles {
            do { inputs.append(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) } catch {
                throw ValidationError("--seed-file \(path): cannot read: \(error.localizedDescription)")
            }
        }
        self.inputs = inputs
        fields = inputs.map(format.fields)
    }

    /// The bytes of case `index` and what was done to its seed.
    func bytes(_ index: Int) -> (bytes: [UInt8], description: String) {
        let which = index % inputs.count
        var mutator = Mutator(seed: seed, caseIndex: index, stream: UInt64(FuzzFormat.allCases.firstIndex(of: format) ?? 0))
        let (bytes, description) = mutator.mutate(inputs[which], fields: fields[which], text: format.isText)
        return (bytes, "seed input \(which): \(description)")
    }
}
