package web

func (a adminPages) moreRoutes() {}
