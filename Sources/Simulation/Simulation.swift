/// Simulation: replay sources, the synthetic feed generator and the simulated venue.
public enum Simulation {}
