import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An SVG parsed with Foundation's XMLParser: its elements in document order.
struct ParsedSVG {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text: String
        /// Names of the enclosing elements, outermost first.
        var ancestors: [String]

        func number(_ attribute: String) -> Double? {
            attributes[attribute].flatMap(Double.init)
        }
    }

    var elements: [Element]

    var root: Element { elements[0] }

    func all(_ name: String) -> [Element] {
        elements.filter { $0.name == name }
    }

    /// Parses `svg`; nil with the parser's error when it is not well-formed XML.
    static func parse(_ svg: String) -> Result<ParsedSVG, ParseError> {
        let collector = Collector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            return .failure(ParseError(description: parser.parserError.map { "\($0)" } ?? "unknown XML error"))
        }
        return .success(ParsedSVG(elements: collector.elements))
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        private var open: [Int] = []

        func parser(
            _ parser: XMLParser,
            didStartElement elementName: String,
            namespaceURI: String?,
            qualifiedName qName: String?,
            attributes attributeDict: [String: String] = [:]
        ) {
            let ancestors = open.map { elements[$0].name }
            elements.append(Element(name: elementName, attributes: attributeDict, text: "", ancestors: ancestors))
            open.append(elements.count - 1)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            open.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let current = open.last {
                elements[current].text += string
            }
        }
    }
}
