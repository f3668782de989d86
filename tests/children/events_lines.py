"""Reports progress only through plain printed lines, in the formats people already use."""

for fold in (1, 2, 3):
    for epoch in (1, 2):
        print(f"Epoch {epoch}/2: Loss={1.0 / epoch:.3f}, Val_Score={0.5 + 0.1 * epoch + 0.01 * fold:.3f} (1s)")
    if fold == 2:
        print("Early stopping! Best score: 0.710")
    print(f"Fold {fold}/3 complete: Score={0.7 + 0.01 * fold:.3f}")
