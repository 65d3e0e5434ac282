/// The shark information app of the canary tutorial, in two versions: v1 friendly (the stable release), v2 scary
/// (the canary). Each version has a landing page with a "Get Shark Info" button and a page of shark facts; every
/// page shows its version so a reader can tell at a glance which subset answered.
public enum SharkVersion: String, Sendable, CaseIterable {
    case v1, v2

    var mood: String { self == .v1 ? "friendly" : "scary" }
    var accent: String { self == .v1 ? "#1d7fb8" : "#b3261e" }
}

enum SharkPages {
    static func landing(_ version: SharkVersion) -> String {
        page(version, title: "About Sharks", body: """
        <h1>Want to Learn About Sharks?</h1>
        <p class="lead">\(version == .v1
            ? "Sharks are curious, graceful animals that have swum the oceans for over 400 million years."
            : "Sharks have hunted the oceans for over 400 million years. They are still hungry.")</p>
        <p><a class="button" href="/sharks">Get Shark Info</a></p>
        """)
    }

    static func facts(_ version: SharkVersion) -> String {
        let facts: [(String, String)] = version == .v1 ? [
            ("Whale shark", "The largest fish in the sea, it eats plankton and lets divers swim alongside."),
            ("Nurse shark", "Spends its days resting on the sea floor in groups and is rarely a threat to people."),
            ("Zebra shark", "Born striped, spotted as an adult, and gentle enough to be handled by aquarists."),
        ] : [
            ("Great white shark", "Can detect a drop of blood in 100 litres of water and strikes from below at 40 km/h."),
            ("Tiger shark", "Eats almost anything, from sea turtles to licence plates; its teeth saw through shells."),
            ("Bull shark", "Swims far up rivers into fresh water, where few expect a shark to be waiting."),
        ]
        let items = facts.map { "<li><strong>\($0.0)</strong>: \($0.1)</li>" }.joined(separator: "\n")
        return page(version, title: "Shark Info", body: """
        <h1>Shark Info</h1>
        <p class="lead">\(version == .v1 ? "Some friendly sharks you may meet:" : "Some sharks you would rather not meet:")</p>
        <ul>
        \(items)
        </ul>
        <p><a class="button" href="/">Back</a></p>
        """)
    }

    private static func page(_ version: SharkVersion, title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(title) (\(version.rawValue))</title>
        <style>
        body { font-family: sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
        .version { display: inline-block; padding: .2rem .6rem; border-radius: .3rem; color: #fff; background: \(version.accent); }
        .button { display: inline-block; padding: .5rem 1rem; border-radius: .3rem; color: #fff; background: \(version.accent); text-decoration: none; }
        </style>
        </head>
        <body data-version="\(version.rawValue)">
        <p><span class="version">version \(version.rawValue)</span> \(version.mood) sharks</p>
        \(body)
        </body>
        </html>

        """
    }
}
