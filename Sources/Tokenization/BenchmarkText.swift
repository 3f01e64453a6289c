/// Text for measuring tokenizer speed (`grpo bench tokenizer` and the speed test).
public enum BenchmarkText {
    /// Seeded mixed text: English sentences with 10% made-up words (so the word cache also misses),
    /// French, Russian, Chinese runs, code, numbers and dates, JSON, emoji.
    public static func mixed(bytes: Int, seed: UInt64) -> String {
        var state = seed
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        func pick<T>(_ items: [T]) -> T { items[next() % items.count] }
        func words(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }
        let english = words("the of and to in is that it for on with as was at by an be this which or from model token reward policy learning training gradient language sentence quick brown fox jumps over lazy dog answer question reasoning step because however therefore")
        let french = words("le la les des une est été où êtes vous français phrase élève cœur très déjà")
        let russian = words("быстрая коричневая лиса прыгает через ленивую собаку привет мир как дела")
        let chinese = Array("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴")
        let emoji = ["😀", "🎉", "🚀", "👍🏽", "👨‍👩‍👧", "❤️", "🇫🇷"]
        var out = ""
        out.reserveCapacity(bytes + 200)
        while out.utf8.count < bytes {
            switch next() % 20 {
            case 0..<10:
                for i in 0..<(5 + next() % 15) {
                    if i > 0 { out += " " }
                    if next() % 10 == 0 {
                        out += String((0..<(2 + next() % 8)).map { _ in Character(Unicode.Scalar(UInt8(97 + next() % 26))) })
                    } else {
                        let word = pick(english)
                        out += i == 0 ? word.capitalized : word
                    }
                    if next() % 12 == 0 { out += pick([",", ";", " -", "'s", "n't"]) }
                }
                out += pick([". ", "? ", "! ", ".\n", ".\n\n"])
            case 10, 11: out += (0..<(4 + next() % 8)).map { _ in pick(french) }.joined(separator: " ") + ". "
            case 12: out += (0..<(4 + next() % 8)).map { _ in pick(russian) }.joined(separator: " ") + ". "
            case 13, 14: out += String((0..<(10 + next() % 40)).map { _ in pick(chinese) }) + "。"
            case 15: out += "    x_\(next() % 100) = f(\(next() % 1000), \"s\") + \(Double(next() % 10000) / 100)\n"
            case 16: out += "\(next() % 100_000) \(next() % 1000).\(next() % 100) \(2000 + next() % 30)-0\(1 + next() % 9)-1\(next() % 9) "
            case 17: out += pick(emoji) + " "
            default: out += "\n\t{\"key\": [\(next() % 10), \(next() % 100)], \"v\": null}\n"
            }
        }
        return out
    }
}
