package policy

// Direction is the direction of a message to rcpts as the engine's rules
// see it ("internal" or "outbound"), for records made outside the engine
// (the incident store) to say the same.
func (e *Engine) Direction(rcpts []string) string { return direction(rcpts, e.internal) }
