"""The realistic, reproducible demo data set behind `aispend demo`."""

from pipelines.demo.generate import DemoFrames, demo_frames, generate_demo

__all__ = ["DemoFrames", "demo_frames", "generate_demo"]
