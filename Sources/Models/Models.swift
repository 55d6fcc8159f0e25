/// Models: LightGBM text models loaded (`LightGBMModel`) and flattened for evaluation
/// (`FlatForest`, branch-free, the same cost on any row), optionally compiled to machine code
/// (`CompiledForest`, fastest where consecutive rows take the same paths; `ForestEvaluator`
/// picks it or falls back to the interpreter); `SyntheticModel` writes benchmark models of a
/// stated shape. Knows no threads or rings: the engine wraps a forest in its model stage.
public enum ModelsModule {}
