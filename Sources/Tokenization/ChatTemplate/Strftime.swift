import Foundation

/// C's `strftime` in the C locale (English names), which Python's `datetime.strftime` calls on Linux;
/// templates use it through `strftime_now("%d %b %Y")`. glibc's `%-d` (no padding) is supported.
enum Strftime {
    private static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let months = ["January", "February", "March", "April", "May", "June", "July", "August",
                                 "September", "October", "November", "December"]

    static func format(_ format: String, date: Date, timeZone: TimeZone) throws -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let year = c.year ?? 1970, month = c.month ?? 1, day = c.day ?? 1
        let hour = c.hour ?? 0, minute = c.minute ?? 0, second = c.second ?? 0
        let weekday = (c.weekday ?? 1) - 1  // 0 = Sunday
        let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
        let hour12 = hour % 12 == 0 ? 12 : hour % 12

        var out = ""
        var scalars = format.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "%" else {
                out.unicodeScalars.append(scalar)
                continue
            }
            var code = scalars.next()
            let unpadded = code == "-"
            if unpadded { code = scalars.next() }
            func number(_ value: Int, _ width: Int) -> String {
                let digits = String(value)
                return unpadded ? digits : String(repeating: "0", count: max(width - digits.count, 0)) + digits
            }
            switch code {
            case "a": out += weekdays[weekday].prefix(3)
            case "A": out += weekdays[weekday]
            case "b", "h": out += months[month - 1].prefix(3)
            case "B": out += months[month - 1]
            case "d": out += number(day, 2)
            case "e": out += unpadded ? String(day) : (day < 10 ? " " : "") + String(day)
            case "m": out += number(month, 2)
            case "y": out += number(year % 100, 2)
            case "Y": out += String(year)
            case "H": out += number(hour, 2)
            case "I": out += number(hour12, 2)
            case "M": out += number(minute, 2)
            case "S": out += number(second, 2)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "j": out += number(dayOfYear, 3)
            case "w": out += String(weekday)
            case "u": out += String(weekday == 0 ? 7 : weekday)
            case "F": out += "\(year)-\(number(month, 2))-\(number(day, 2))"
            case "D", "x": out += "\(number(month, 2))/\(number(day, 2))/\(number(year % 100, 2))"
            case "T", "X": out += "\(number(hour, 2)):\(number(minute, 2)):\(number(second, 2))"
            case "c":
                let padded = (day < 10 ? " " : "") + String(day)
                out += "\(weekdays[weekday].prefix(3)) \(months[month - 1].prefix(3)) \(padded) "
                    + "\(number(hour, 2)):\(number(minute, 2)):\(number(second, 2)) \(year)"
            case "Z": out += timeZone.abbreviation(for: date) ?? ""
            case "z":
                let offset = timeZone.secondsFromGMT(for: date) / 60
                out += (offset < 0 ? "-" : "+") + number(abs(offset) / 60, 2) + number(abs(offset) % 60, 2)
            case "n": out += "\n"
            case "t": out += "\t"
            case "%": out += "%"
            default:
                let shown = code.map { "%" + (unpadded ? "-" : "") + String($0) } ?? "%"
                throw JinjaValue.error("strftime_now: unsupported format code '\(shown)'")
            }
        }
        return out
    }
}
