import Foundation

/// The Tasks module's one error type: exact arithmetic, expression parsing, JSONL files and task options.
public enum TaskError: Error, LocalizedError, CustomStringConvertible, Equatable, Sendable {
    /// A rational result does not fit in `Int` numerator and denominator.
    case overflow(operation: String)
    /// A division by zero, in `operation` (e.g. "3/0").
    case divisionByZero(operation: String)
    /// An arithmetic expression that does not parse; `position` counts characters from 0.
    case invalidExpression(expression: String, position: Int, reason: String)
    /// A JSON value that is not a dataset row (no `prompt`, or a `prompt` of the wrong type).
    case invalidRow(reason: String)
    /// A JSONL line that is not a valid row; `line` counts from 1.
    case malformedLine(file: String, line: Int, reason: String)
    /// A file that cannot be read or written.
    case io(file: String, reason: String)
    /// A task name that is not built in.
    case unknownTask(name: String, known: [String])
    /// A verifier name that is not built in.
    case unknownVerifier(name: String, known: [String])
    /// A task option out of range.
    case invalidOption(task: String, option: String, expected: String, actual: String)
    /// The task has fewer distinct problems than asked for (after excluding the other split).
    case notEnoughProblems(task: String, split: String, requested: Int, found: Int)

    public var description: String {
        switch self {
        case let .overflow(operation):
            "rational overflow in \(operation): the result does not fit in 64-bit integers"
        case let .divisionByZero(operation):
            "division by zero in \(operation)"
        case let .invalidExpression(expression, position, reason):
            "invalid expression '\(expression)' at character \(position): \(reason)"
        case let .invalidRow(reason):
            "invalid dataset row: \(reason)"
        case let .malformedLine(file, line, reason):
            "\(file):\(line): malformed JSONL row: \(reason)"
        case let .io(file, reason):
            "\(file): \(reason)"
        case let .unknownTask(name, known):
            "unknown task '\(name)'; known tasks: \(known.joined(separator: ", "))"
        case let .unknownVerifier(name, known):
            "unknown verifier '\(name)'; known verifiers: \(known.joined(separator: ", "))"
        case let .invalidOption(task, option, expected, actual):
            "task '\(task)': option '\(option)' expected \(expected), got \(actual)"
        case let .notEnoughProblems(task, split, requested, found):
            "task '\(task)': asked for \(requested) distinct \(split) problems, found only \(found); "
                + "use a smaller count or a larger task (more digits or numbers)"
        }
    }

    public var errorDescription: String? { description }
}
