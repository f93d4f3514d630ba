"""What the agent, the dashboard and training share: faces, the CNN, emotion logic."""
