import Foundation

extension TrainingCheckpoint {
    /// The files of a run: its checkpoints (finished or not) and its logs.
    static func isRunFile(_ name: String) -> Bool {
        name.hasPrefix(prefix) || name.hasPrefix(".\(prefix)") || name == "metrics.jsonl" || name == "completions.jsonl"
            || name.hasPrefix("events.out.tfevents.")
    }

    /// Makes `output` ready for a run that starts fresh (`resume` false). A folder holding an earlier
    /// run's checkpoint is refused unless `overwrite` (TrainingArguments' overwrite_output_dir); then,
    /// or when the earlier run saved no checkpoint (nothing to resume), that run's checkpoints and logs
    /// are removed, so none of them can be taken for the new run's. Anything else is left alone. Every
    /// rank of a data-parallel run checks; only the one `removing` (the main rank) removes.
    public static func claim(_ output: URL, resume: Bool, overwrite: Bool, removing: Bool = true) throws {
        guard !resume else { return }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []).filter(isRunFile).sorted()
        guard try list(output).isEmpty || overwrite else { throw CheckpointError.existingRun(directory: output.path, contents: names) }
        guard removing else { return }
        for name in names {
            let url = output.appendingPathComponent(name)
            do { try FileManager.default.removeItem(at: url) } catch {
                throw CheckpointError.unwritable(file: url.path, reason: "cannot remove the earlier run's \(name): \(error.localizedDescription)")
            }
        }
    }
}
