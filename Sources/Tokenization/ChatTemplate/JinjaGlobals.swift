import Foundation

/// The functions transformers makes global in chat templates (`raise_exception`, `strftime_now`, `namespace`,
/// `dict`) plus Jinja's own `range`.
enum JinjaGlobals {
    /// The globals for one render; `strftime_now` reports `now` in `timeZone`.
    static func make(now: Date, timeZone: TimeZone) -> [String: JinjaValue] {
        [
            "raise_exception": .function(JinjaFunction(name: "raise_exception") { arguments in
                throw TokenizerError.template(message: arguments.value(0, "message")?.pythonString ?? "", line: nil)
            }),
            "strftime_now": .function(JinjaFunction(name: "strftime_now") { arguments in
                guard case .string(let format)? = arguments.value(0, "format") else {
                    throw JinjaValue.error("strftime_now() needs a format string")
                }
                return .string(try Strftime.format(format, date: now, timeZone: timeZone))
            }),
            "namespace": .function(JinjaFunction(name: "namespace") { arguments in
                .namespace(JinjaNamespace(try keywordObject(arguments, "namespace")))
            }),
            "dict": .function(JinjaFunction(name: "dict") { arguments in
                .object(try keywordObject(arguments, "dict"))
            }),
            "range": .function(JinjaFunction(name: "range", range)),
        ]
    }

    /// `namespace(mapping, key=value, ...)` and `dict(...)`: an optional dict argument updated by keywords.
    private static func keywordObject(_ arguments: JinjaArguments, _ function: String) throws -> JinjaObject {
        var object = JinjaObject()
        switch arguments.positional.count {
        case 0: break
        case 1:
            guard case .object(let initial) = arguments.positional[0] else {
                throw JinjaValue.error("\(function)() argument must be a mapping, not \(arguments.positional[0].typeName)")
            }
            object = initial
        default:
            throw JinjaValue.error("\(function)() takes at most 1 positional argument")
        }
        for (key, value) in arguments.keyword { object[key] = value }
        return object
    }

    /// `range(stop)` and `range(start, stop[, step])` as a list.
    private static func range(_ arguments: JinjaArguments) throws -> JinjaValue {
        let numbers = try arguments.positional.map { value in
            guard let i = value.integer else { throw JinjaValue.error("range() arguments must be integers") }
            return i
        }
        let (start, stop, step): (Int, Int, Int) = switch numbers.count {
        case 1: (0, numbers[0], 1)
        case 2: (numbers[0], numbers[1], 1)
        case 3: (numbers[0], numbers[1], numbers[2])
        default: throw JinjaValue.error("range() expects 1 to 3 integer arguments, got \(numbers.count)")
        }
        guard step != 0 else { throw JinjaValue.error("range() arg 3 must not be zero") }
        let (span, overflow) = stop.subtractingReportingOverflow(start)
        let (count, divisionOverflow) = span.dividedReportingOverflow(by: step)
        guard !overflow, !divisionOverflow, count <= 100_000 else { throw JinjaValue.error("range() is too large") }
        return .array(Array(stride(from: start, to: stop, by: step)).map(JinjaValue.int))
    }
}
