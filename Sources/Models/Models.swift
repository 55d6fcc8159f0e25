/// Models: LightGBM text models loaded (`LightGBMModel`) and flattened for evaluation
/// (`FlatForest`). Knows no threads or rings: the engine wraps a forest in its model stage.
public enum ModelsModule {}
