package console

func (c *Console) incidentRoutes() {}
