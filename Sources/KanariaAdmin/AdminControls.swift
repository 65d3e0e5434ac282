import KanariaRouting

/// What the admin endpoints show of the running configuration.
public struct AdminConfigurationState: Sendable {
    public var table: RouteTable
    /// Increases with every configuration applied (file reload or live weight change).
    public var generation: Int
    /// The files and folders it was loaded from.
    public var sources: [String]
    /// Live weight changes applied since the files were last loaded: route index → weights.
    public var weightOverrides: [Int: [Int]]

    public init(table: RouteTable, generation: Int, sources: [String], weightOverrides: [Int: [Int]] = [:]) {
        self.table = table
        self.generation = generation
        self.sources = sources
        self.weightOverrides = weightOverrides
    }
}

/// The outcome of a reload, in the words `kanaria validate` would use.
public struct ReloadOutcome: Sendable {
    public var applied: Bool
    public var messages: [String]

    public init(applied: Bool, messages: [String]) {
        self.applied = applied
        self.messages = messages
    }
}

/// What the admin endpoints can do to the running proxy. The executable supplies these, so that this module needs
/// neither the proxy nor the configuration loader.
public struct AdminControls: Sendable {
    public var configuration: @Sendable () -> AdminConfigurationState
    public var reload: @Sendable () -> ReloadOutcome
    public var setWeights: @Sendable (_ route: Int, _ weights: [Int]) -> Result<AdminConfigurationState, WeightChangeError>

    public init(configuration: @escaping @Sendable () -> AdminConfigurationState,
                reload: @escaping @Sendable () -> ReloadOutcome,
                setWeights: @escaping @Sendable (_ route: Int, _ weights: [Int]) -> Result<AdminConfigurationState, WeightChangeError>) {
        self.configuration = configuration
        self.reload = reload
        self.setWeights = setWeights
    }
}
