/// One token of a template: literal text between tags, a tag delimiter, or a piece of an expression.
struct JinjaToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        case text(String)
        case outputBegin  // {{
        case outputEnd  // }}
        case statementBegin  // {%
        case statementEnd  // %}
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case symbol(String)  // operators and punctuation: + - ~ == ( [ . | ...
        case end
    }

    let kind: Kind
    let line: Int

    /// How the token reads in an error message.
    var description: String {
        switch kind {
        case .text: return "template text"
        case .outputBegin: return "'{{'"
        case .outputEnd: return "'}}'"
        case .statementBegin: return "'{%'"
        case .statementEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string(let s): return "string \(JinjaValue.pythonStringRepr(s))"
        case .integer(let i): return "integer \(i)"
        case .float(let d): return "float \(JinjaValue.pythonFloat(d))"
        case .symbol(let s): return "'\(s)'"
        case .end: return "end of template"
        }
    }
}
