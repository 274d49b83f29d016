"""The plutarc command line (`plutarc ...`) and the orchestration of the main job."""
