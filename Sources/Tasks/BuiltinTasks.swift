/// The registry of built-in tasks, by the names `grpo data make --task` and configs use.
public enum BuiltinTasks {
    public static let names = [ArithmeticTask.name, CountdownTask.name, CodeTask.name]

    /// Builds the task `name` with `options`; an unknown name lists the known ones.
    public static func make(_ name: String, options: TaskOptions = TaskOptions()) throws -> any TaskGenerator {
        switch name {
        case ArithmeticTask.name:
            try reject(options, allowed: ["digits", "operations"], task: name)
            let operations = try (options.operations ?? ["+"]).map { symbol in
                guard let operation = ArithmeticTask.Operation(symbol: symbol) else {
                    throw TaskError.invalidOption(task: name, option: "operations", expected: "+, - or *",
                                                  actual: "'\(symbol)'")
                }
                return operation
            }
            return try ArithmeticTask(digits: options.digits ?? 3, operations: operations)
        case CountdownTask.name:
            try reject(options, allowed: ["numbers", "max_number", "max_target", "exactly_once"], task: name)
            return try CountdownTask(numberCount: options.numberCount ?? 3...4, maxNumber: options.maxNumber ?? 100,
                                     maxTarget: options.maxTarget ?? 1000,
                                     useEachNumberExactlyOnce: options.exactlyOnce ?? false)
        case CodeTask.name:
            try reject(options, allowed: [], task: name)
            return try CodeTask()
        default:
            throw TaskError.unknownTask(name: name, known: names)
        }
    }

    private static func reject(_ options: TaskOptions, allowed: Set<String>, task: String) throws {
        if let option = options.setOptions.first(where: { !allowed.contains($0) }) {
            throw TaskError.invalidOption(task: task, option: option,
                                          expected: "only its own options (\(allowed.sorted().joined(separator: ", ")))",
                                          actual: "'\(option)', which belongs to another task")
        }
    }
}
