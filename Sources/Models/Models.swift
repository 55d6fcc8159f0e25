/// Models: LightGBM text-model loader and flattened evaluator. Knows no threads or rings.
public enum ModelsModule {}
