/// Features: incremental indicators and the compiled feature registry. Knows no threads or rings.
public enum FeaturesModule {}
